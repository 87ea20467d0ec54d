"""Rendering: the only package that imports Rich. quiz.py renders quiz and bank output;
submit.py renders grading results; batch.py the progress bar and summary of `dlprep grade`.

May import: grader.results, grader.practice, grader.bank
Must not be imported by: anything but cli.py and grader.commands.
"""
