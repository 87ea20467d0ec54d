"""Commands: the CLI's command groups, each parsing its options and calling one function in grader/.

common.py (the shared options, `guarded` and the helpers every group uses), bank.py (`bank` and
`bank new`), tasks.py (`tasks` and `task`), grading.py (`submit` and `grade`), progress.py
(`review`, `stats`, `history` and `progress`), export.py (`export`). cli.py holds the root app,
`quiz` and `doctor`, and wires these in. No logic lives here; torch is never imported at module
level (the quiz starts fast).

May import: grader.errors, grader.bank, grader.practice, grader.grading, grader.authoring, grader.render
Must not be imported by: anything but cli.py.
"""
