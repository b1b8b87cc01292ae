"""The decision threshold the model is judged at, shared by judge and users.

The Evaluator counts a probability above it as a positive prediction (TFMA's
confusion matrices and Keras' binary accuracy both compare with `>`), and
anything that labels images for a user must use the same number, or its
labels would disagree with the accuracy the model was blessed for.
"""

DECISION_THRESHOLD = 0.5
