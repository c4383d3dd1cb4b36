"""What identifies a person: column names, values, patient ids and file names.

One place for the privacy patterns, used by the data checks
(``data_checks/custom_expectations.py``) on the cohort's columns and values,
by the loader and the console to withhold such values from their messages,
and by the report to decide whether the cohort file's name may appear in what
co-authors receive. No Great Expectations here: the report imports it.

English and Russian: abbreviations (DoB, ДР), capitals (ИВАНОВ И.И.),
initials first (I. Petrov), obfuscated e-mails (name(at)mail.ru), labelled
telephone numbers (тел. 8916...), national numbers (SNILS 123-456-789 01,
passport 45 06 123456). Two capitalised words alone are not a name ("Saint
Petersburg", "Trastuzumab Deruxtecan"): a name needs initials, a patronymic, a
common given name or a Slavic surname ending.
"""

from __future__ import annotations

import re

import pandas as pd

__all__ = [
    "FREE_TEXT_MIN_WORDS",
    "FREE_TEXT_NAME_PATTERN",
    "IDENTIFIER_NAME_PATTERN",
    "IDENTIFIER_VALUE_PATTERN",
    "PERSON_NAME_PATTERN",
    "birth_date_rows",
    "column_words",
    "ids_with_names",
    "looks_identifying",
]

# Column names that say "direct identifier", searched in the column name
# lower-cased with "_" around every word (see data_checks.custom_expectations):
# any word ending in "name", initials, medical record / hospital / case
# numbers, birth dates (DoB splits as do_b), addresses, telephones, e-mail,
# national identity and insurance numbers (SNILS is the Russian one).
IDENTIFIER_NAME_PATTERN = (
    r"_[a-z]*name_|_fio_|_initials_|_mrn_|_medical_record|_record_(no|num|number)_|_hospital_(no|num|number|id)_"
    r"|_case_(no|num|number)_|_chart_|_dob_|_do_b_|_d_o_b_|_birth|_born_|_b_?day_|_address|_street_|_post_?code_"
    r"|_zip(_?code)?_|_phone|_telephone|_tel_|_mobile_|_cell_?phone_|_e_?mail|_ssn_|_snils_|_inn_|_passport"
    r"|_national_id|_insurance_(no|num|number)_|_nhs_(no|num|number)_"
    # The same in Russian: full name (ФИО, Ф.И.О.), first/last/patronymic name,
    # initials, birth date (ДР, Д.Р., дата рождения), address, telephone,
    # mobile, e-mail, SNILS, INN, passport, insurance policy, case history (ИБ).
    r"|_фио_|_ф_и_о_|_имя_|_фамилия_|_отчество_|_инициалы_|_дата_рождения_|_др_|_д_р_|_рожд|_адрес|_телефон|_тел_"
    r"|_моб|_почта_|_e_mail_|_емейл_|_снилс_|_инн_|_паспорт|_полис|_истори[яи]_болезни_|_номер_истории_|_иб_"
)

# Column names that say "free text", searched as IDENTIFIER_NAME_PATTERN is; free
# text may name people, so it stays out of the analysis set.
FREE_TEXT_NAME_PATTERN = r"_(comment|comments|note|notes|remark|remarks|free_?text|description|narrative|text)_"
# A value of this many words or more is prose, not a code.
FREE_TEXT_MIN_WORDS = 3


def column_words(column: object) -> str:
    """A column name as words: camelCase split, lower-cased, runs of other characters (any script) as ``_``.

    The form the name patterns above are searched in.

    >>> column_words("Дата рождения"), column_words("Patient Name"), column_words("DateOfBirth")
    ('_дата_рождения_', '_patient_name_', '_date_of_birth_')
    """
    words = re.sub(r"(?<=[a-zа-яё0-9])(?=[A-ZА-ЯЁ])", "_", str(column))
    return "_" + re.sub(r"[\W_]+", "_", words.lower()).strip("_") + "_"


_DIGIT_SEP = r"[\s\-]*"
# Values that are contact details or national numbers, searched in any case.
IDENTIFIER_VALUE_PATTERN = "|".join([
    # e-mail, also without its domain's ending
    r"[\w.+\-]+\s*@\s*[\w\-]+",
    # e-mail written to dodge filters: name(at)mail.ru, name [at] mail [dot] ru, name собака mail.ru
    r"[\w.+\-]+\s*(?:[(\[{<]\s*(?:at|собака)\s*[)\]}>]|\s(?:at|собака)\s)\s*[\w\-]+"
    r"\s*(?:\.|[(\[{<]\s*(?:dot|точка)\s*[)\]}>]|\s(?:dot|точка)\s)\s*[a-zа-я]{2,}",
    # a telephone number written whole (9+ digits), not a date
    r"^(?![0-9]{4}-[0-9]{2}-[0-9]{2}$|[0-9]{2}\.[0-9]{2}\.[0-9]{4}$)\+?[0-9][0-9 ()\-.]{7,}[0-9]$",
    # a Russian mobile number inside text: +7 916 123-45-67, 8 (916) 1234567
    r"(?:\+7|(?<!\d)8)[\s\-(]*9\d{2}[\s\-)]*\d{3}" + _DIGIT_SEP + r"\d{2}" + _DIGIT_SEP + r"\d{2}(?!\d)",
    # a number after a telephone, SNILS, INN or passport label: тел. 8916..., моб: 12-34-56, СНИЛС 12345678901
    r"(?<![\w])(?:тел|телефон|моб|сот|tel|phone|mob|mobile|cell|снилс|snils|инн|inn|паспорт|passport|серия)"
    r"[.:№#\s]*\+?\(?\d",
    # SNILS: 123-456-789 01
    r"(?<!\d)\d{3}-\d{3}-\d{3}[\s\-]\d{2}(?!\d)",
    # Russian passport: series and number, 45 06 123456, 4506 №123456
    r"(?<!\d)\d{2}\s?\d{2}\s+№?\s?\d{6}(?!\d)",
])

# Common given names, Russian (in Cyrillic and transliterated) and English.
_GIVEN_NAMES = (
    "Александр|Алексей|Анатолий|Андрей|Антон|Артём|Артем|Борис|Вадим|Валентин|Валерий|Василий|Виктор|Владимир"
    "|Владислав|Вячеслав|Геннадий|Георгий|Григорий|Даниил|Денис|Дмитрий|Евгений|Егор|Иван|Игорь|Илья|Кирилл"
    "|Константин|Лев|Леонид|Максим|Матвей|Михаил|Никита|Николай|Олег|Павел|Пётр|Петр|Роман|Сергей|Станислав"
    "|Степан|Тимофей|Фёдор|Федор|Юрий|Ярослав|Александра|Алина|Алла|Анастасия|Анна|Валентина|Валерия|Вера"
    "|Виктория|Галина|Дарья|Диана|Евгения|Екатерина|Елена|Елизавета|Иоанна|Ирина|Кристина|Ксения|Лариса|Любовь"
    "|Людмила|Маргарита|Марина|Мария|Надежда|Наталья|Наталия|Нина|Ольга|Полина|Светлана|София|Софья|Татьяна"
    "|Ульяна|Юлия|Alexander|Alexandr|Aleksandr|Alexey|Aleksey|Andrey|Anton|Artem|Boris|Dmitry|Dmitriy|Denis"
    "|Egor|Evgeny|Evgeniy|Igor|Ilya|Ivan|Kirill|Konstantin|Maxim|Maksim|Mikhail|Nikita|Nikolay|Oleg|Pavel"
    "|Pyotr|Roman|Sergey|Sergei|Stepan|Timofey|Vadim|Viktor|Vladimir|Vladislav|Yury|Yuri|Anastasia|Anna|Daria"
    "|Darya|Ekaterina|Elena|Irina|Ksenia|Kseniya|Maria|Mariya|Marina|Natalia|Natalya|Olga|Polina|Svetlana"
    "|Sofia|Sofya|Tatiana|Tatyana|Yulia|Julia|Elizabeth|James|John|Robert|Michael|William|David|Richard"
    "|Joseph|Thomas|Charles|Daniel|Matthew|Mark|Paul|Steven|Andrew|George|Edward|Peter|Mary|Patricia|Jennifer"
    "|Linda|Barbara|Susan|Jessica|Sarah|Karen|Nancy|Lisa|Emily|Emma|Olivia|Sophie|Hannah|Laura"
)
# Surname and patronymic endings that few other capitalised words have (not -in/-ин: many drugs end so).
_SURNAME_END = r"(?:ов|ова|ев|ева|ёв|ёва|ский|ская|цкий|цкая|енко|ov|ova|ev|eva|sky|skiy|skii|skaya|enko)"
_PATRONYMIC_END = r"(?:ович|евич|ьич|овна|евна|ична|инична|ovich|evich|ovna|evna|ichna)"
_WORD = r"[A-ZА-ЯЁ](?:[a-zа-яё'’\-]+|[A-ZА-ЯЁ'’\-]+)"  # Capitalised or in CAPITALS
_INITIAL = r"[A-ZА-ЯЁ]\."
# Values shaped like a person's name, matched with case: "Иванов И.И.", "ИВАНОВ И.И.", "I. Petrov",
# "Иванов Иван Иванович", "Ivan Petrov", "Petrov, Ivan", "Ivan Petrovich Sidorov".
PERSON_NAME_PATTERN = "|".join([
    rf"^\s*{_WORD},?\s+{_INITIAL}\s?(?:{_INITIAL})?\s*$",
    rf"^\s*{_INITIAL}\s?(?:{_INITIAL}\s?)?{_WORD}\s*$",
    rf"^\s*{_WORD}(?:\s+{_WORD})?\s+{_WORD}(?i:{_PATRONYMIC_END})(?:\s+{_WORD})?\s*$",
    rf"^\s*(?i:{_GIVEN_NAMES})\s+{_WORD}(?:\s+{_WORD})?\s*$",
    rf"^\s*{_WORD},?\s+(?i:{_GIVEN_NAMES})(?:\s+{_WORD})?\s*$",
    rf"^\s*{_WORD}(?i:{_SURNAME_END})\s+{_WORD}\s*$|^\s*{_WORD}\s+{_WORD}(?i:{_SURNAME_END})\s*$",
])

_VALUE = re.compile(IDENTIFIER_VALUE_PATTERN, re.IGNORECASE)
_PERSON = re.compile(PERSON_NAME_PATTERN)
_NAME_WORD = re.compile(rf"^(?:{_GIVEN_NAMES})$|^\w{{3,}}{_SURNAME_END}$|^\w+{_PATRONYMIC_END}$", re.IGNORECASE)
_LETTERS = re.compile(r"[A-Za-zА-Яа-яЁё]{2,}")


def looks_identifying(text: object) -> bool:
    """True when a value looks like a contact, a national number or a person's name.

    Examples
    --------
    >>> [looks_identifying(v) for v in ("ИВАНОВ И.И.", "I. Petrov", "name(at)mail.ru", "тел. 89161234567")]
    [True, True, True, True]
    >>> [looks_identifying(v) for v in ("123-456-789 01", "45 06 123456", "Saint Petersburg", "INO-001", 36.7)]
    [True, True, False, False, False]
    """
    if not isinstance(text, str):
        return False
    return bool(_VALUE.search(text) or _PERSON.search(text))


def file_name_identifies(name: str) -> bool:
    """True when a file name holds what :func:`looks_identifying` finds, or a word that is a given name or a surname.

    A file name is judged more strictly than a cell (case and separators are
    arbitrary in names): any word that is a common given name, or ends like a
    Slavic surname or patronymic, counts.

    >>> file_name_identifies("ivanov_cohort.xlsx"), file_name_identifies("Когорта InO 2024.csv")
    (True, False)
    """
    stem = name.rsplit(".", 1)[0] if "." in name else name
    spaced = re.sub(r"[_]+", " ", stem)
    if looks_identifying(stem) or looks_identifying(spaced):
        return True
    words = re.findall(r"[^\W\d_]+", stem)
    return any(_NAME_WORD.match(word) for word in words)


def ids_with_names(ids: pd.Series) -> pd.Series:
    """Patient ids that carry a person's name: a run of 4+ letters that is a given name or a surname.

    A run ending like a Slavic surname, or a common given name, counts; so
    does any other run of 4+ letters that only this patient carries while
    another run is shared by several patients (a study or site code is
    shared; a surname is the patient's own).

    >>> ids_with_names(pd.Series(["INO-001", "INO-002", "PETROV-003", "SMITH-004"])).tolist()
    [False, False, True, True]
    """
    # Ids share a few shapes (their letters); each shape is judged once, however many patients carry it.
    shapes = ids.astype(str).str.replace(r"[^A-Za-zА-Яа-яЁё]+", " ", regex=True).str.strip()
    frequency = shapes.value_counts()
    runs = {shape: _LETTERS.findall(shape) for shape in frequency.index}
    carriers: dict[str, int] = {}
    for shape, found in runs.items():
        for run in set(found):
            carriers[run.upper()] = carriers.get(run.upper(), 0) + int(frequency[shape])
    shared_code = any(count >= 2 for count in carriers.values())
    named = [
        shape for shape, found in runs.items()
        if any(len(run) >= 4 and (_NAME_WORD.match(run) or (shared_code and carriers[run.upper()] == 1)) for run in found)
    ]
    return shapes.isin(named)


def birth_date_rows(values: pd.Series, frame: pd.DataFrame, years_tolerance: float = 1.0) -> pd.Series:
    """Rows where ``values`` (text) are dates that, with a date and a number in the same row, give an age in years.

    A birth date shows itself by arithmetic: some date column of the table
    minus it, in years, equals some numeric column (the age) within
    ``years_tolerance``, for at least three patients and nine in ten of
    those with all three values. Returns the rows where it holds, all False
    when the column is not such a date.
    """
    text = values.astype(str).str.strip().str.replace(r"[ T]00:00:00$", "", regex=True)
    dates = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    dates = dates.fillna(pd.to_datetime(text, format="%d.%m.%Y", errors="coerce"))
    none = pd.Series(False, index=values.index)
    # Birth dates differ between patients; a date shared by all (a protocol date) is something else.
    if dates.nunique() < 3:
        return none
    for date_column in frame.select_dtypes(include="datetime").columns:
        years = (frame.loc[values.index, date_column] - dates).dt.days / 365.25
        for number_column in frame.select_dtypes(include="number").columns:
            numbers = frame.loc[values.index, number_column].astype("float64")
            known = years.notna() & numbers.notna()
            # An age varies; a count that is mostly 1 (cycles) would match any date a year back.
            if numbers[known].nunique() < 3:
                continue
            agree = known & ((years - numbers).abs() <= years_tolerance)
            if known.sum() >= 3 and agree.sum() >= 0.9 * known.sum():
                return agree
    return none
