"""Citizens' ratings under ``/rate/<token>`` (placeholder; helper webr writes them)."""

from fastapi import APIRouter

router = APIRouter()
