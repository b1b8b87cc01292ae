"""TFMA metric names as the Evaluator records them, and the decision threshold.

The eval config (pipeline/eval_config.py) asks TFMA for these metrics; the
evaluation reader, the run summary, the reports and the explainer look them
up by the same names.
"""

# Decision threshold of the confusion counts, accuracy, FPR and FNR.
DECISION_THRESHOLD = 0.5

ACCURACY = 'binary_accuracy'
CROSS_ENTROPY = 'binary_crossentropy'
AUC = 'auc'
PRECISION = 'precision'
RECALL = 'recall'
FALSE_POSITIVE_RATE = 'fall_out'
FALSE_NEGATIVE_RATE = 'miss_rate'
EXAMPLE_COUNT = 'example_count'
CONFUSION_MATRIX = 'confusion_matrix_at_thresholds'
