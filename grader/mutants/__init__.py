"""Known-wrong variants of the built-in tasks, one file per mutant, each defining the task's class
like a submission would. The judge builds them (never the child) to match a submission's outputs,
and `dlprep bank validate` grades each one to prove the task's hidden checks catch and name it.
A mutant's file name is its pitfall id with underscores.

May import: nothing of dlprep
Must not be imported by: the zygote or the child (never held there; unreadable to the child).
"""
