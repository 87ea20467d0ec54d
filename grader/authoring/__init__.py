"""Authoring: what instructors run to prove what they wrote.

validate.py (`bank validate`: the bank's checks plus those that grade), rubrics.py (prove each
short question's rubric on its model answer and graded examples), mutation.py (prove a task: the
reference passes, every mutant is caught and named), exports.py and classroom.py (a task's
grading handed to Gradescope or GitHub Classroom) with autograder.py (the bundle's trusted side in
Gradescope's container). It depends on both flows, so it sits on top, below the CLI alone.

May import: grader.errors, grader.results, grader.bank, grader.practice, grader.grading, grader.pitfalls
Must not be imported by: anything but cli.py and grader.commands.
"""
