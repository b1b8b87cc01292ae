"""Predictions for image files from a pushed model's `serving_jpeg` signature.

  components.predict.inputs      expand()      IMAGE, DIR or GLOB -> files
  components.predict.predictor   Predictor, Prediction, predict_files()

  python -m components.predict --model outputs/serving_model photos/ \\
      [--output predictions.csv]
"""
