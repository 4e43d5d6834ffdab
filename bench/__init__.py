"""The relay benchmark: the service between trainees and a model, measured against the model alone.

Run `python -m bench --help`. A fake OpenAI-compatible upstream (`bench.upstream`) streams
tokens at a set pace; the same load is sent straight to it, through the service (with and
without the critique running) and, when installed, through the LiteLLM proxy, all in one run.
Results land in `bench/results/` as JSON, a Markdown table and a chart.
"""
