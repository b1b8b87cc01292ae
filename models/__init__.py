"""What runs inside Transform and the Trainer: features, preprocessing, model."""
