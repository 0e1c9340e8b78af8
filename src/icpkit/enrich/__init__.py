"""Enrichment and entity resolution: fields filled in from providers (a local table, a
company's website, an HTTP JSON API) through a per-field waterfall with a cache, provenance
and a budget; leads matched to accounts; duplicate accounts clustered and merged."""
