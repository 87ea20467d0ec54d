"""The bank: questions and coding tasks as instructors write them, and their loading.

schema.py (question models), taskspec.py (task models), yamlsrc.py (YAML with line numbers),
catalog.py (find and load banks and task files, every problem at once), taskfiles.py (a task's
files and ids checked without running them), tasks.py (find, describe and start a task).
Nothing here grades or runs code: checks that grade live in grader.authoring.

May import: grader.errors, grader.pitfalls.registry
Must not be imported by: nothing (it is the bottom layer); it must never import practice, grading or sandbox.
"""
