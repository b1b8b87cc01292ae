"""Feature keys, labels and cohorts: the data contract shared by every stage.

CelebA examples reach the pipeline as `tf.train.Example`s holding the original
JPEG bytes, the image file name and all 40 attributes as int64 0/1. Everything
that names a feature (the converter, the schema, Transform, the Trainer, the
Evaluator's slices and the reports) reads the names from here, so a rename
happens in one place.
"""

from typing import Dict, List, Tuple

# The 40 CelebA attributes, in the order of `list_attr_celeba.txt`.
ATTRIBUTE_NAMES: Tuple[str, ...] = (
    '5_o_Clock_Shadow', 'Arched_Eyebrows', 'Attractive', 'Bags_Under_Eyes',
    'Bald', 'Bangs', 'Big_Lips', 'Big_Nose', 'Black_Hair', 'Blond_Hair',
    'Blurry', 'Brown_Hair', 'Bushy_Eyebrows', 'Chubby', 'Double_Chin',
    'Eyeglasses', 'Goatee', 'Gray_Hair', 'Heavy_Makeup', 'High_Cheekbones',
    'Male', 'Mouth_Slightly_Open', 'Mustache', 'Narrow_Eyes', 'No_Beard',
    'Oval_Face', 'Pale_Skin', 'Pointy_Nose', 'Receding_Hairline',
    'Rosy_Cheeks', 'Sideburns', 'Smiling', 'Straight_Hair', 'Wavy_Hair',
    'Wearing_Earrings', 'Wearing_Hat', 'Wearing_Lipstick', 'Wearing_Necklace',
    'Wearing_Necktie', 'Young',
)

IMAGE_KEY = 'image'        # original JPEG bytes, unchanged
IMAGE_ID_KEY = 'image_id'  # CelebA file name, e.g. '000001.jpg'

# The two attributes the model predicts; each is also a model output name.
MALE_KEY = 'Male'
YOUNG_KEY = 'Young'
LABEL_KEYS: Tuple[str, ...] = (MALE_KEY, YOUNG_KEY)

# CelebA's official partitions (list_eval_partition) and the split names the
# pipeline uses for them: train on train, early-stop on eval, judge on test.
PARTITION_TO_SPLIT: Dict[int, str] = {0: 'train', 1: 'eval', 2: 'test'}
SPLITS: Tuple[str, ...] = ('train', 'eval', 'test')

# Human names of the label values, as the reports show them.
VALUE_NAMES: Dict[str, Dict[int, str]] = {
    MALE_KEY: {1: 'Male', 0: 'Female'},
    YOUNG_KEY: {1: 'Young', 0: 'Non-Young'},
}


def cohort_name(male: int, young: int) -> str:
  """Names the gender x age cohort of one example, e.g. 'Non-Young x Male'."""
  age = VALUE_NAMES[YOUNG_KEY][int(young)]
  gender = VALUE_NAMES[MALE_KEY][int(male)]
  return f'{age} x {gender}'


# The four cohorts as (Male, Young) values, the two small Non-Young ones first.
COHORTS: Tuple[Tuple[int, int], ...] = ((1, 0), (0, 0), (1, 1), (0, 1))


def cohort_names() -> List[str]:
  """Cohort names in the order of COHORTS."""
  return [cohort_name(m, y) for m, y in COHORTS]
