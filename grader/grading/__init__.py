"""Grading: a submitted module, graded on outputs and gradients against a reference.

submit.py (the CLI-side flow, no torch), watch.py (`submit --watch`), runner.py (the untrusted
child's side), judge.py and checks.py (the trusted judge; wording.py words its messages in en or zh),
compare.py, probes.py, forbidden.py, formats.py (output formats); functiontask.py and
functionchecks.py (a torch.autograd.Function graded as the module around its apply);
`dlprep grade`: batch.py, discover.py, cache.py, truth.py, reports.py and htmlreport.py.

May import: grader.errors, grader.results, grader.home, grader.bank, grader.sandbox, grader.pitfalls
Must not be imported by: grader.bank, grader.practice, grader.sandbox (which runs runner and judge by
entry-point name, never by import).
"""
