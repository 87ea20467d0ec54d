"""Grading: a submitted module, graded on outputs and gradients against a reference.

submit.py (the CLI-side flow, no torch), runner.py (the untrusted child's side), judge.py and
checks.py (the trusted judge), compare.py, probes.py, forbidden.py, formats.py (output formats);
`dlprep grade`: batch.py, discover.py, cache.py, truth.py, reports.py and htmlreport.py.

May import: grader.errors, grader.results, grader.home, grader.bank, grader.sandbox, grader.pitfalls
Must not be imported by: grader.bank, grader.practice, grader.sandbox (which runs runner and judge by
entry-point name, never by import).
"""
