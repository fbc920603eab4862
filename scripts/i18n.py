"""Re-extract the texts of panel/texts.py into the translation catalogs (panel/locales/).

    scripts/i18n.sh            update every catalog; list what is left to translate
    scripts/i18n.sh --check    change nothing; fail when a message is untranslated or broken

New and changed English texts arrive with an empty translation (a translation is kept while its
English is unchanged); texts that are gone are dropped. Translate in the .po file, then run
`scripts/i18n.sh --check` (the test tests/unit/test_i18n_catalogs.py checks the same).
"""

from __future__ import annotations

import argparse
import sys

from panel import catalogs, i18n


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="change nothing; fail if anything is missing")
    options = parser.parse_args()
    failed = False
    for language in i18n.LANGUAGES[1:]:
        if not options.check:
            catalog, added, dropped = catalogs.update(language)
            path = catalogs.write(language, catalog)
            print(f"{path}: {len(catalog)} messages, {len(added)} new or changed, {len(dropped)} dropped")
            for msgid in dropped:
                print(f"  dropped: {msgid!r}")
        problems = catalogs.problems(language)
        for problem in problems:
            print(f"  [{language}] {problem}")
        failed = failed or bool(problems)
    return 1 if options.check and failed else 0


if __name__ == "__main__":
    sys.exit(main())
