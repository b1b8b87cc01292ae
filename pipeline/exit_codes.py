"""Exit statuses of `python local_runner.py`, for schedulers and CI jobs.

A job that runs the pipeline can tell a pushed model from a refused one, bad
input from a crash, and an interruption to resume from either.
"""

PUSHED = 0         # a model was blessed and pushed
FAILED = 1         # the run failed (the message says where)
BAD_INPUT = 2      # a flag, a data folder or the data itself
NOT_BLESSED = 3    # the run completed; the model was not blessed
INTERRUPTED = 130  # Ctrl-C or SIGTERM; the same command resumes

HELP = f"""exit status:
  {PUSHED}    a model was blessed and pushed
  {FAILED}    the run failed (the message says where; the log has the details)
  {BAD_INPUT}    bad input: a flag, a data folder, the data itself
  {NOT_BLESSED}    the run completed; the model was not blessed (the summary says why)
  {INTERRUPTED}  interrupted (Ctrl-C or SIGTERM); the same command resumes"""
