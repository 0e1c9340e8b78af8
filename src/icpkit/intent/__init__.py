"""Intent: events, decay, caps, buying groups, as-of scoring."""
