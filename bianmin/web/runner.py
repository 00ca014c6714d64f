"""Runners' pages under ``/r/<token>`` (placeholder; helper webr writes them)."""

from fastapi import APIRouter

router = APIRouter()
