# The README's two commands: `make demo` and `make test`.
.PHONY: demo test test-clock lint setup setup-test bench

demo: setup
	.venv/bin/mirror demo

test: setup-test
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy
	cd web && npm test --silent
	.venv/bin/pytest

# The time-sensitive tests at chosen clock times (top of the hour, day, month and year end).
test-clock: setup-test
	scripts/test-clock.sh

setup:
	scripts/setup.sh

setup-test:
	scripts/setup.sh --test

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy

bench: setup-test
	.venv/bin/python bench/host_cost.py
	.venv/bin/python bench/poll_scale.py
	scripts/isolated.sh .venv/bin/python bench/alerts.py
