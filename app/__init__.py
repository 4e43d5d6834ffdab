"""Alliance practice: simulated clients and per-turn supervision for counselling trainees."""

__version__ = "0.1.0"
