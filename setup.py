"""Package definition for the CelebA gender and age TFX pipeline.

The same package is what `pip install -e .` gives a developer, what the
pipeline image installs for Kubeflow, and what Beam workers receive through
`--setup_file`, so the runtime dependencies below are the whole stack, pinned to
the set that is known to resolve and run together (TFX 1.16 is the newest TFX
whose native wheels install on glibc 2.36). `constraints.txt` pins the rest of
the tree for reproducible installs.
"""

import setuptools

# The TFX 1.16 stack, as resolved and run together (see the docstring).
INSTALL_REQUIRES = [
    'tfx==1.16.0',
    'tensorflow==2.16.2',
    'tf-keras==2.16.0',
    'tensorflow-transform==1.16.0',
    'tensorflow-model-analysis==0.47.1',
    'tensorflow-data-validation==1.16.1',
    'apache-beam[gcp]==2.74.0',
    'protobuf==3.20.3',
    'ml-metadata==1.16.0',
    # Compiling for Kubeflow Pipelines v2; the kfp SDK 2.x itself needs
    # protobuf>=4.21 and cannot share this environment.
    'kfp-pipeline-spec==0.2.2',
    # TFT imports dill but does not declare it.
    'dill>=0.3.1',
    # apache-beam's bound.
    'cryptography<48',
    'numpy>=1.22,<2',
    'pillow>=10',
    'tqdm>=4.60',
    # Reports and explanations: plots, 2-D maps of the latent space and
    # Integrated Gradients / Grad-CAM saliency (PAIR's framework-agnostic
    # `saliency` library).
    'matplotlib>=3.8,<3.10',
    'scikit-learn>=1.3,<1.6',
    'saliency==0.2.1',
    # The model card is validated against the Model Card Toolkit's JSON
    # schema before it is written (already in the tree through nbformat).
    'jsonschema>=4.18,<5',
    # TensorBoard 2.16 (the projector, the Trainer's logs) imports
    # pkg_resources, which setuptools 81 removed.
    'setuptools<81',
]

TEST_REQUIRES = [
    # pytest-xdist 3.8 groups tests by rewriting item._nodeid, which pytest
    # 9.2 no longer reads: under 9.2 every group would be split up.
    'pytest>=8,<9.2',
    'pytest-timeout>=2.2',
    # The suite runs on every core (pytest.ini); pipeline runs that tests
    # share stay on one worker (tests/conftest.py).
    'pytest-xdist>=3.5',
    # Process-tree CPU and memory in the Beam-workers test and benchmarks.
    'psutil>=5.9',
    # Writes TFDS-prepared celeb_a folders with TFDS's own builder, so the
    # converter's TFDS reader is tested on exactly what TFDS produces. Only
    # tests need it: the reader itself parses the files without it.
    'tensorflow-datasets==4.9.10',
]

setuptools.setup(
    name='celeba-tfx',
    version='0.1.0',
    description=(
        'TFX pipeline: MobileNetV2 on CelebA for gender and age, '
        'class-weighted BCE, judged per gender x age cohort with TFMA.'),
    long_description=open('README.md', encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.9,<3.11',
    packages=setuptools.find_packages(include=[
        'pipeline', 'pipeline.*', 'models', 'models.*', 'components',
        'components.*', 'schema'
    ]),
    # The curated schema and the model card's JSON schema travel with the
    # package, so Beam workers and the pipeline image find them where
    # `schema.SCHEMA_FILE` and `model_card.SCHEMA_FILE` say.
    package_data={'schema': ['*.pbtxt'],
                  'components.contracts': ['*.schema.*.json']},
    py_modules=['local_runner', 'kubeflow_runner'],
    install_requires=INSTALL_REQUIRES,
    extras_require={'test': TEST_REQUIRES},
)
