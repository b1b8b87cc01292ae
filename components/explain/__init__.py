"""Explanations of a trained model: where faces sit in its latent space, and
which pixels push each prediction up or down.

The ModelExplainer pipeline component (`component.py`) and the ad-hoc command
(`python -m components.explain`, `__main__.py`) run the same code on an
exported model, through its signatures only (`served_model.py`): JPEG bytes go
through `transform_jpeg`, the serving preprocessing, and the pixels through
`predict_pixels`, which returns the probabilities and the pooled `embedding`
the heads read. Nothing here rebuilds the Keras model, so any pushed model can
be explained, and what is explained is what is served.

One idea per module:

  served_model.py  load the SavedModel, find it in a push or Trainer folder
  examples.py      read labelled test examples (TFRecords), sample them
  embeddings.py    embeddings and predictions of a set of faces
  projector.py     TensorBoard Embedding Projector files (vectors, metadata,
                   sprite, projector_config.pbtxt)
  maps.py          static 2-D maps (PCA, t-SNE) coloured by truth/prediction
  saliency.py      signed Integrated Gradients per output (PAIR `saliency`)
  overlays.py      saliency heatmaps drawn over the faces, per cohort
  config.py        ExplainConfig, the stage's knobs (one component parameter)
  outputs.py       writing files locally or to gs:// (tf.io.gfile)
  run.py           the whole stage: examples + model -> an output folder
  component.py     the TFX component (node id 'ModelExplainer')
  __main__.py      the command line

explanation.json, the index of the figures that the slice report reads, is a
contract of its own (components/contracts/explanation.py).

The output folder (the ModelExplanation artifact) holds:

  explanation.json
  projector/projector_config.pbtxt, vectors.tsv, metadata.tsv, sprite.jpg
  maps/latent_pca.png, maps/latent_tsne.png, maps/coordinates.npz
  saliency/saliency_cohort_averages.png, saliency/saliency_<cohort>.png,
  saliency/saliency_maps.npz
"""
