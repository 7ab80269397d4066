"""Disaster-recovery drills as code: scenario files, the runner, and the report."""
