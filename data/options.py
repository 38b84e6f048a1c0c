"""The `data.options` several datasets declare alike, declared once.

A dataset names these in its `@arguments(...)` instead of repeating the `Arg`, so the
Arguments reference page (`make docs`, `python train.py --list NAME`) reads the same
wherever an option means the same. The config loader reads them from this file without
importing it (`utils/static_arguments.py`): keep each a literal `Arg(...)`.

- `TRAIN_SIZE`, `VALIDATION_SIZE`, `TEST_SIZE`: how many examples a generated (or
  composed) dataset writes to each split; null keeps its named configuration's size.
- `GENERATOR_SEED`: the seed of a generated dataset; null: 0.
- `TEXT_INPUT`, `MIN_COUNT`, `LOWERCASE`, `EMBEDDING_DIM`, `CHAR_FEATURES`: how a tagged
  corpus's sentences reach the model (`conll`, `conll2000`).

Example:
>>> from data.options import GENERATOR_SEED, TRAIN_SIZE
>>> from utils.arguments import arguments, check
>>> @arguments(train_size=TRAIN_SIZE, seed=GENERATOR_SEED)
... def my_dataset(train_size: int = None, seed: int = None): ...
>>> check(my_dataset.declared_arguments, {"train_size": 0}, "data.options")
Traceback (most recent call last):
...
utils.arguments.ArgumentError: data.options.train_size: 0 is out of range; valid: an integer >= 1, or null
"""

from utils.arguments import Arg

TRAIN_SIZE = Arg(int, "examples (composites) in the train split; null: the config's",
                 range="[1, inf)", null=True)
VALIDATION_SIZE = Arg(int, "examples (composites) in the validation split; null: the config's",
                      range="[1, inf)", null=True)
TEST_SIZE = Arg(int, "examples (composites) in the test split; null: the config's",
                range="[1, inf)", null=True)

GENERATOR_SEED = Arg(int, "seeds the generator; null: 0", range="[0, 2147483647]", null=True)

TEXT_INPUT = Arg(str, "text (the sentence, split in the model) or tokens",
                 choices=("text", "tokens"))
MIN_COUNT = Arg(int, "training occurrences a token needs to be in the vocabulary", range="[1, inf)")
LOWERCASE = Arg(bool, "lower-case tokens before the lookup")
EMBEDDING_DIM = Arg(int, "width of the token embedding", range="[1, inf)")
CHAR_FEATURES = Arg(int, "width of a per-token character CNN (0: words only)", range="[0, inf)")
