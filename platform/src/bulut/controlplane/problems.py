"""Errors to ``application/problem+json`` (RFC 9457), naming the field when known."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from bulut.errors import PROBLEM_CONTENT_TYPE, BulutError, InvalidInputError, problem_document


def _problem(error: BulutError, request: Request, status: int | None = None) -> JSONResponse:
    body = problem_document(error, status=status, instance=request.url.path)
    return JSONResponse(body, status_code=int(body["status"]), media_type=PROBLEM_CONTENT_TYPE)  # type: ignore[call-overload]


async def _bulut_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BulutError)
    return _problem(exc, request)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
    error = InvalidInputError(
        f"{first.get('msg', 'invalid request')}: {where}", field=where or None
    )
    return _problem(error, request)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    error = BulutError(str(exc.detail))
    error.title = "Not found" if exc.status_code == 404 else "HTTP error"
    return _problem(error, request, status=exc.status_code)


def install(app: FastAPI) -> None:
    """Register the handlers on an app."""
    app.add_exception_handler(BulutError, _bulut_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
