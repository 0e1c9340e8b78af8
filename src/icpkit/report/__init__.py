"""Documents and reports rendered from profiles and results."""
