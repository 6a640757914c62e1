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
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure, WriteError


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

    @property
    def bulk_api_result(self) -> dict:
        return {"nMatched": self.matched_count, "nModified": self.modified_count, "nUpserted": self.upserted_count, "writeErrors": []}


@dataclass
class _Upserted:
    upserted_id: object
    matched_count: int = 0
    modified_count: int = 0


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
        """Each UpdateOne in turn; a failed one becomes a write error, as a server reports it
        (11000 for a duplicate key, 28 for a path that cannot take the field)."""
        result = _BulkResult()
        errors: list[dict] = []
        for index, op in enumerate(requests):
            if not isinstance(op, UpdateOne):
                raise NotImplementedError(f"mongomock_compat: {type(op).__name__} in bulk_write")
            try:
                self._check_paths(op._filter, op._doc)
                one = self._collection.update_one(op._filter, op._doc)
                if op._upsert and one.matched_count == 0:
                    one = self._upsert(op._filter, op._doc)
            except DuplicateKeyError as exc:
                errors.append({"index": index, "code": 11000, "errmsg": str(exc)})
            except (WriteError, OperationFailure, mongomock.WriteError) as exc:
                code = getattr(exc, "code", None) or 28
                errors.append({"index": index, "code": code, "errmsg": str(exc)})
            else:
                result.matched_count += one.matched_count
                result.modified_count += one.modified_count
                result.upserted_count += 1 if one.upserted_id is not None else 0
            if errors and ordered:
                break
        if errors:
            raise BulkWriteError({**result.bulk_api_result, "writeErrors": errors})
        return result

    def _check_paths(self, filter: dict, update: dict) -> None:
        """A `$set` of `a.b` on a document whose `a` is not an object fails on a server (28,
        PathNotViable); mongomock silently leaves it."""
        paths = [p for p in update.get("$set", {}) if "." in p] if isinstance(update, dict) else []
        if not paths:
            return
        doc = self._collection.find_one(filter)
        for path in paths if doc is not None else []:
            node = doc
            for name in path.split(".")[:-1]:
                if name not in node:
                    break
                node = node[name]
                if not isinstance(node, dict):
                    raise WriteError(f"Cannot create field in element {{{name}: {node!r}}}", 28)

    def _upsert(self, filter: dict, update: dict):
        """An upsert's insert, as a server builds it: the filter's equalities (dotted paths
        expanded, so `_id.campaign_id` and `_id.code` make one `_id`), then the `$set` (mongomock
        refuses two dotted paths under `_id`). A duplicate key raises DuplicateKeyError."""
        doc: dict = {}
        for path, value in [*filter.items(), *update.get("$set", {}).items()]:
            *parents, leaf = path.split(".")
            node = doc
            for name in parents:
                node = node.setdefault(name, {})
            node[leaf] = value
        self._collection.insert_one(doc)
        return _Upserted(doc["_id"])


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
