"""One error policy: every kind of domain error has an outcome in every front end's table."""

from __future__ import annotations

from code_console.cli import EXIT_STATUS
from code_console.core import errors


def _domain_error_classes():
    seen, todo = [], [errors.CodeConsoleError]
    while todo:
        cls = todo.pop()
        seen.append(cls)
        todo.extend(cls.__subclasses__())
    return seen


def test_every_error_class_has_a_kind():
    for cls in _domain_error_classes():
        assert isinstance(cls.kind, errors.ErrorKind), cls


def test_the_command_line_maps_every_kind():
    assert set(EXIT_STATUS) == set(errors.ErrorKind)
    assert EXIT_STATUS[errors.ErrorKind.INVALID_INPUT] == 2
    assert EXIT_STATUS[errors.ErrorKind.CONFLICT] == 2
    assert EXIT_STATUS[errors.ErrorKind.FORBIDDEN] == 3
    assert EXIT_STATUS[errors.ErrorKind.UPSTREAM_REFUSED] == 3
    assert EXIT_STATUS[errors.ErrorKind.NOT_FOUND] == 4
    assert EXIT_STATUS[errors.ErrorKind.UNAVAILABLE] == 5
    assert EXIT_STATUS[errors.ErrorKind.CANCELLED] == 130


def test_one_constructor_shape():
    for cls in _domain_error_classes():
        exc = cls("some_code", "a message")
        assert (exc.code, exc.message, str(exc)) == ("some_code", "a message" if cls is not errors.BadFile else "a message", "a message")
    assert errors.Forbidden().message == "this operation requires a supreme principal"
    assert errors.BadFile("bad_csv", "oops", 7).message == "line 7: oops"
    assert errors.StoreUnavailable(None, "busy", slow=True).slow is True


def test_the_http_api_maps_every_kind():
    from code_console.api.errors import NAMED_BY_KIND, STATUS_BY_KIND

    assert set(STATUS_BY_KIND) == set(errors.ErrorKind)
    assert set(NAMED_BY_KIND) == set(errors.ErrorKind)
    assert STATUS_BY_KIND[errors.ErrorKind.INVALID_INPUT] == 400
    assert STATUS_BY_KIND[errors.ErrorKind.CONFLICT] == 409
    assert STATUS_BY_KIND[errors.ErrorKind.UNAUTHENTICATED] == 401
    assert STATUS_BY_KIND[errors.ErrorKind.FORBIDDEN] == 403
    assert STATUS_BY_KIND[errors.ErrorKind.NOT_FOUND] == 404
    assert STATUS_BY_KIND[errors.ErrorKind.TOO_LARGE] == 413
    assert STATUS_BY_KIND[errors.ErrorKind.UPSTREAM_REFUSED] == 502
    assert STATUS_BY_KIND[errors.ErrorKind.UNAVAILABLE] == 503
    assert STATUS_BY_KIND[errors.ErrorKind.NOT_CONFIGURED] == 501


def test_every_error_class_gets_an_original_style_body():
    from code_console.api.errors import error_response

    for cls in _domain_error_classes():
        response = error_response(cls("some_code", "a message"), correlation_id="c-1", retry_after_seconds=5)
        body = __import__("json").loads(response.body)
        assert set(body) == {"error", "meta"} and body["error"]["status"] == response.status_code
        assert body["error"]["payload"] and body["error"]["name"] and body["error"]["code"] == "some_code"


def test_the_console_maps_every_kind():
    from code_console.ui.policy import REACTIONS, Reaction, StoreState, judge

    assert set(REACTIONS) == set(errors.ErrorKind)
    assert REACTIONS[errors.ErrorKind.INVALID_INPUT][0] is Reaction.FIX_INPUT
    assert REACTIONS[errors.ErrorKind.NOT_FOUND][0] is Reaction.FIX_INPUT
    assert REACTIONS[errors.ErrorKind.UNAVAILABLE][0] is Reaction.OUTAGE
    assert REACTIONS[errors.ErrorKind.NOT_CONFIGURED][0] is Reaction.OPERATOR
    assert REACTIONS[errors.ErrorKind.UPSTREAM_REFUSED][0] is Reaction.OPERATOR
    assert REACTIONS[errors.ErrorKind.CANCELLED][0] is Reaction.QUIET
    # Which backend failed, and how, comes from the stable code and details, not the text.
    busy = judge(errors.StoreUnavailable(None, "did not answer in time", slow=True))
    assert (busy.reaction, busy.title, busy.store) == (Reaction.OUTAGE, "Store slow", StoreState.SLOW)
    down = judge(errors.StoreUnavailable(None, "connection refused"))
    assert (down.title, down.store) == ("Store unreachable", StoreState.UNREACHABLE)
    s3 = judge(errors.ObjectStoreUnavailable(None, "timed out"))
    assert (s3.title, s3.store) == ("S3 unreachable", None)
