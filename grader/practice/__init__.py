"""Practice: what a learner does with the questions.

answers.py (grade one answer: choices, numbers; free text through rubric.py, which reads it with
reading.py, notation.py and, for Chinese, chinese.py), quiz.py (pick questions, run a session, sum
it up), hints.py (a coding task's hints and its solution, gated by the learner's attempts).
Later: the progress store and the scheduler.

May import: grader.errors, grader.bank, grader.home
Must not be imported by: grader.bank, grader.grading, grader.sandbox, grader.pitfalls.
"""
