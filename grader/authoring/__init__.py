"""Authoring: what instructors run to prove what they wrote.

validate.py (`bank validate`: the bank's checks plus those that grade, such as model answers
against their rubrics), mutation.py (prove a task: the reference passes, every mutant is caught
and named). It depends on both flows, so it sits on top, below the CLI alone.

May import: grader.errors, grader.results, grader.bank, grader.practice, grader.grading, grader.pitfalls
Must not be imported by: anything but cli.py.
"""
