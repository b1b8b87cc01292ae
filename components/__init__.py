"""Components this pipeline needs that standard TFX does not provide."""
