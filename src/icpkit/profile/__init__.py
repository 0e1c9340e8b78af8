"""The profile: the ICP definition file, its model, loading and schema."""

from .load import dump_profile, json_schema, load_profile, parse_profile
from .model import Profile

__all__ = ["Profile", "dump_profile", "json_schema", "load_profile", "parse_profile"]
