#!/usr/bin/python3
"""validate_json.py SCHEMA_DIR NAME: validates the JSON on stdin against
SCHEMA_DIR/NAME.schema.json (which may refer to its siblings by their $id).
Exit status 0 when it is valid; else 1, with the first error on stderr."""
import json
import pathlib
import sys
import warnings

import jsonschema

warnings.simplefilter("ignore", DeprecationWarning)  # RefResolver: still Debian 12's way


def main():
    schema_dir, name = pathlib.Path(sys.argv[1]), sys.argv[2]
    store = {}
    for path in schema_dir.glob("*.schema.json"):
        schema = json.loads(path.read_text())
        store[schema["$id"]] = schema
    schema = json.loads((schema_dir / f"{name}.schema.json").read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    resolver = jsonschema.RefResolver.from_schema(schema, store=store)
    try:
        document = json.loads(sys.stdin.read())
    except json.JSONDecodeError as e:
        print(f"not JSON: {e}", file=sys.stderr)
        return 1
    errors = sorted(cls(schema, resolver=resolver).iter_errors(document), key=str)
    if errors:
        print(f"{name}: {errors[0].message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
