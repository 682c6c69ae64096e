.PHONY: help install up demo lint types test chart bench bench-all loadtest verdict
PY ?= python3

help:            ## list the targets
	@grep -E '^[a-z]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

install:         ## install admitone with its development and load-test tools
	$(PY) -m pip install -e '.[dev,load]'

demo:            ## run everything with a demo show (embedded PostgreSQL and Redis if no URLs are set)
	admitone up --demo

lint:            ## ruff
	$(PY) -m ruff check admitone tests bench loadtests

types:           ## mypy, strict on admitone/
	$(PY) -m mypy

test:            ## the test suite (real PostgreSQL and Redis; embedded ones if none are configured)
	$(PY) -m pytest

chart:           ## helm lint --strict + helm template, checked against the Kubernetes schemas (as .ci/run)
	helm="$$($(PY) -m tests.helm_tools)" && "$$helm" lint --strict helm/admitone \
	  --set secret.databaseUrl=postgresql://db/a --set secret.redisUrl=redis://redis:6379/0 \
	  && "$$helm" template ci helm/admitone --set secret.databaseUrl=postgresql://db/a \
	  --set secret.redisUrl=redis://redis:6379/0 --set ingress.enabled=true > /tmp/admitone-chart.yaml \
	  && kubernetes-validate --strict --quiet -k 1.35.0 /tmp/admitone-chart.yaml

bench:           ## the booking-core benchmark: raw PostgreSQL, framework ceiling, admitone's lock endpoint
	$(PY) bench/booking_bench.py

bench-all:       ## every benchmark in one go (~10-15 min, the 100k swarm included), written to BENCHMARKS.md
	$(PY) bench/run_all.py

loadtest:        ## a bounded locust surge against a running admitone (see loadtests/README.md)
	cd loadtests && locust -f locustfile.py --headless -u 500 -r 100 --run-time 60s --host http://127.0.0.1:8000

verdict:         ## the load-test verdict of one show: make verdict SHOW_ID=… (ADMITONE_DATABASE_URL/_REDIS_URL set)
	$(PY) -m loadtests.check --show-id $(SHOW_ID)
