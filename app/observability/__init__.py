"""Operations: Prometheus metrics, structured logs and request ids. Never transcript text."""
