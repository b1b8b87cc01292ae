"""CelebA data tools: read the official or Kaggle copy or a TFDS-prepared
celeb_a, convert it to TFRecords for ImportExampleGen, or generate a
look-alike sample.

  components.celeba.convert   convert(), is_converted(), read_marker()
  components.celeba.synth     synthesize(), plan(), best_achievable_accuracy()
  components.celeba.layout    detect_layout(), read_catalog()
  components.celeba.tfds      read_source(), read_records() (TFDS layout)
  components.celeba.errors    CelebAFormatError
  components.celeba.local_data  a local run's TFRecords: convert or generate

  python -m components.celeba convert --celeba_dir DIR --output_dir OUT
  python -m components.celeba synth --output_dir DIR --num_images N --seed S

Nothing is re-exported here, so `components.celeba.convert` stays the module
(a re-exported function of the same name would shadow it). Importing these
modules does not import TensorFlow; conversion loads it when it starts
decoding images.
"""
