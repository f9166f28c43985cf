"""The load test of the orders API: artillery drives it, these modules judge the run.

    python -m tools.loadtest --env local [--rate 40] [--duration 30]     (after `make up`)
    python -m tools.loadtest --env staging [--p99 MS] [--max-error-rate PCT]
    python -m tools.loadtest --env staging --rate 1000 --ramp 120 --duration 300
    python -m tools.loadtest --env staging --distributed fargate --count 4 --region eu-west-1
    python -m tools.loadtest reconcile RUN_DIR [RUN_DIR ...] --env staging

One module per step of a run, in the order they happen:

- ``install``: the pinned Node and artillery (npm ci), verified before every run;
- ``profiles``: artillery.yml's environments, their phases and what they plan;
- ``target``: where the load goes (the local stack, Terraform outputs or --target), the
  dead-letter queues and the table to reconcile against;
- ``run``: priming and warm-up of the local stack, artillery itself, distributed runs;
- ``plan_kept``: did the load generator keep its plan (saturation), and the rate of each phase;
- ``thresholds``: p99 and error rate against the profile's limits;
- ``reconcile``: every accepted order final, in a dead-letter queue, lost, or unverified;
- ``summary``: the terminal lines, result.json and the offline summary.html (``charts``);
- ``verdict``: the exit code; ``cli``: the command line.
"""
