"""What mongomock 4.3 lacks for MongoStore's queries, supplied for the fast unit tests only.

- `hint=` on update_many and bulk_write (mongomock raises NotImplementedError; hints only pick
  an index, so dropping them changes no result);
- bulk_write of UpdateOne, which mongomock cannot run under pymongo >= 4.11 (its issue #912);
- the aggregation operators `$type` and `$mergeObjects`, and a list of types in the query's `$type`;
- a case-insensitive collation on a find (Store.case_twins), as case-insensitive patterns.

Real servers (SecantusDB in the suite) run MongoStore unchanged; this module never ships.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

import mongomock
from mongomock import aggregate as _aggregate
from pymongo import UpdateOne


def _bson_type(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int" if -(2**31) <= value < 2**31 else "long"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    if isinstance(value, datetime.datetime):
        return "date"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return type(value).__name__


def _install_type_operator() -> None:
    if "$type" in _aggregate.type_convertion_operators:
        return
    from mongomock import filtering

    one_type = filtering._type_op

    def any_type(doc_val, search_val, in_array=False):
        if isinstance(search_val, list):  # MongoDB takes a list of types: any of them matches
            known = [s for s in search_val if filtering.TYPE_MAP.get(s) is not None]
            return any(one_type(doc_val, s, in_array) for s in known)
        return one_type(doc_val, search_val, in_array)

    filtering._filterer_inst._operator_map["$type"] = any_type  # the one filterer mongomock uses
    original = _aggregate._Parser._handle_type_convertion_operator

    def handle(self, operator, values):
        if operator == "$type":
            try:
                return _bson_type(self.parse(values))
            except KeyError:
                return "missing"
        return original(self, operator, values)

    _aggregate.type_convertion_operators.append("$type")
    _aggregate._Parser._handle_type_convertion_operator = handle

    parse = _aggregate._Parser.parse

    def parse_with_merge(self, expression):
        if isinstance(expression, dict) and set(expression) == {"$mergeObjects"}:
            merged: dict = {}
            for part in expression["$mergeObjects"]:
                try:
                    value = self.parse(part)
                except KeyError:  # a missing field merges as nothing
                    continue
                if isinstance(value, dict):
                    merged.update(value)
            return merged
        return parse(self, expression)

    _aggregate._Parser.parse = parse_with_merge


def _caseless(value):
    if isinstance(value, dict) and isinstance(value.get("$in"), list):
        return {**value, "$in": [re.compile(f"^{re.escape(v)}$", re.IGNORECASE) if isinstance(v, str) else v for v in value["$in"]]}
    if isinstance(value, str):
        return re.compile(f"^{re.escape(value)}$", re.IGNORECASE)
    return value


@dataclass
class _BulkResult:
    matched_count: int = 0
    modified_count: int = 0
    upserted_count: int = 0


class _Compatible:
    def __init__(self, collection: mongomock.Collection) -> None:
        self._collection = collection

    def __getattr__(self, name):
        return getattr(self._collection, name)

    @property
    def database(self):
        return _CompatibleDatabase(self._collection.database)

    def find(self, filter=None, *args, collation=None, **kwargs):
        """A case-insensitive collation (strength 1 or 2) on `$in` lists of strings, as
        case-insensitive whole-string patterns (mongomock ignores collations)."""
        if collation and collation.get("strength", 3) <= 2 and filter:
            filter = {key: _caseless(value) for key, value in filter.items()}
        return self._collection.find(filter, *args, **kwargs)

    def update_many(self, filter, update, *args, hint=None, **kwargs):
        return self._collection.update_many(filter, update, *args, **kwargs)

    def update_one(self, filter, update, *args, hint=None, **kwargs):
        return self._collection.update_one(filter, update, *args, **kwargs)

    def bulk_write(self, requests, ordered=True):
        result = _BulkResult()
        for op in requests:
            if not isinstance(op, UpdateOne):
                raise NotImplementedError(f"mongomock_compat: {type(op).__name__} in bulk_write")
            one = self._collection.update_one(op._filter, op._doc, upsert=op._upsert)
            result.matched_count += one.matched_count
            result.modified_count += one.modified_count
            result.upserted_count += 1 if one.upserted_id is not None else 0
        return result


class _CompatibleDatabase:
    def __init__(self, database) -> None:
        self._database = database

    def __getattr__(self, name):
        return getattr(self._database, name)

    def __getitem__(self, name):
        return _Compatible(self._database[name])


def compatible(collection: mongomock.Collection) -> _Compatible:
    _install_type_operator()
    return _Compatible(collection)
