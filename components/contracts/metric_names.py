"""TFMA metric names as the Evaluator records them, and the decision threshold.

The eval config (pipeline/eval_config.py) asks TFMA for these metrics; the
evaluation reader, the run summary, the reports and the explainer look them
up by the same names.
"""

# Decision threshold of the confusion counts, accuracy, precision, recall and
# the scalar FPR, FNR, FDR and FOR.
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
FALSE_DISCOVERY_RATE = 'false_discovery_rate'
FALSE_OMISSION_RATE = 'false_omission_rate'
# FPR and FNR at every threshold of the sweep: array-valued, one value per
# threshold in the order of the eval config's `thresholds` (named, so they
# do not collide with the scalar FallOut and MissRate at 0.5).
FALSE_POSITIVE_RATE_SWEEP = 'fall_out_sweep'
FALSE_NEGATIVE_RATE_SWEEP = 'miss_rate_sweep'
SWEEPS = (FALSE_POSITIVE_RATE_SWEEP, FALSE_NEGATIVE_RATE_SWEEP)
# What TFMA writes instead of a slice's intervals when it could not compute
# them (e.g. a jackknife bucket held none of the slice's examples).
INTERVAL_ERROR = '__ERROR__'
