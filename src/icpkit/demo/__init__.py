"""Synthetic demo data: a messy CRM export with a planted ICP, and canonical benchmark tables."""
