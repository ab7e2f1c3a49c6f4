"""Evaluation: question set, metrics, runner and report (built in the evaluation issue)."""
