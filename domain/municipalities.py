"""The register of Danish municipalities: the 98 codes a paying municipality may have, and
the names shown with them (domain §3, "Identifiers and bounds").

`REGISTER` is a copy of the spec's `kommuner.csv` (`kode;navn`, in its order), kept in the
package so that the installed service reads no file at run time; a unit test holds it equal to
the spec's file. A code is three ASCII digits: `str.isdigit` and a regex's `\\d` also take
full-width (`７０７`) and other Unicode digits, so neither is used here.

The name shown with a code is the municipality's official name: "<navn> Kommune" for 96 of
them, and the two whose official names differ, Københavns Kommune (101) and Bornholms
Regionskommune (400) (docs/adr/0024). A code outside the register can still be in a store
written before the register was enforced; it is shown as "ukendt kommune (999)", never refused
on a read.
"""

from __future__ import annotations

import re
from types import MappingProxyType
from typing import Mapping

from domain.errors import InvalidValue

REGISTER: Mapping[str, str] = MappingProxyType({
    "101": "København", "147": "Frederiksberg", "151": "Ballerup", "153": "Brøndby", "155": "Dragør",
    "157": "Gentofte", "159": "Gladsaxe", "161": "Glostrup", "163": "Herlev", "165": "Albertslund",
    "167": "Hvidovre", "169": "Høje-Taastrup", "173": "Lyngby-Taarbæk", "175": "Rødovre", "183": "Ishøj",
    "185": "Tårnby", "187": "Vallensbæk", "190": "Furesø", "201": "Allerød", "210": "Fredensborg",
    "217": "Helsingør", "219": "Hillerød", "223": "Hørsholm", "230": "Rudersdal", "240": "Egedal",
    "250": "Frederikssund", "253": "Greve", "259": "Køge", "260": "Halsnæs", "265": "Roskilde", "269": "Solrød",
    "270": "Gribskov", "306": "Odsherred", "316": "Holbæk", "320": "Faxe", "326": "Kalundborg",
    "329": "Ringsted", "330": "Slagelse", "336": "Stevns", "340": "Sorø", "350": "Lejre", "360": "Lolland",
    "370": "Næstved", "376": "Guldborgsund", "390": "Vordingborg", "400": "Bornholm", "410": "Middelfart",
    "420": "Assens", "430": "Faaborg-Midtfyn", "440": "Kerteminde", "450": "Nyborg", "461": "Odense",
    "479": "Svendborg", "480": "Nordfyns", "482": "Langeland", "492": "Ærø", "510": "Haderslev",
    "530": "Billund", "540": "Sønderborg", "550": "Tønder", "561": "Esbjerg", "563": "Fanø", "573": "Varde",
    "575": "Vejen", "580": "Aabenraa", "607": "Fredericia", "615": "Horsens", "621": "Kolding", "630": "Vejle",
    "657": "Herning", "661": "Holstebro", "665": "Lemvig", "671": "Struer", "706": "Syddjurs",
    "707": "Norddjurs", "710": "Favrskov", "727": "Odder", "730": "Randers", "740": "Silkeborg", "741": "Samsø",
    "746": "Skanderborg", "751": "Aarhus", "756": "Ikast-Brande", "760": "Ringkøbing-Skjern",
    "766": "Hedensted", "773": "Morsø", "779": "Skive", "787": "Thisted", "791": "Viborg", "810": "Brønderslev",
    "813": "Frederikshavn", "820": "Vesthimmerland", "825": "Læsø", "840": "Rebild", "846": "Mariagerfjord",
    "849": "Jammerbugt", "851": "Aalborg", "860": "Hjørring",
})
"""Code → name as in kommuner.csv (short names: "København", "Bornholm", "Aarhus")."""

CODES: tuple[str, ...] = tuple(REGISTER)
CODE_PATTERN = r"^[0-9]{3}$"
"""Three ASCII digits (a character range, never `\\d`), for schemas and forms."""
_CODE = re.compile(r"[0-9]{3}")

OFFICIAL_NAMES: Mapping[str, str] = MappingProxyType({
    "101": "Københavns Kommune",
    "400": "Bornholms Regionskommune",
})
"""The official names that are not "<navn> Kommune"."""

UNKNOWN = "ukendt kommune"
"""How a code outside the register is named where it is shown."""


def is_known(code: object) -> bool:
    """True for one of the 98 codes of the register (exactly as written: ASCII digits)."""
    return isinstance(code, str) and code in REGISTER


def official_name(code: object) -> str | None:
    """The municipality's official name ("Aarhus Kommune"), or None for a code outside the register."""
    if not is_known(code):
        return None
    assert isinstance(code, str)
    return OFFICIAL_NAMES.get(code, f"{REGISTER[code]} Kommune")


def label(code: object) -> str:
    """The name with the code, as every statement, export and page shows it: "Aarhus Kommune
    (751)"; a code outside the register (written before it was enforced) is "ukendt kommune (999)"."""
    return f"{official_name(code) or UNKNOWN} ({code})"


def check(code: object, field: str) -> str:
    """The code if it is one of the register's; else `invalid_municipality` (not three ASCII
    digits) or `unknown_municipality` (three digits no municipality has), naming the field."""
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        raise InvalidValue("invalid_municipality", "must be a municipality's code of 3 ASCII digits, e.g. 751", field)
    if code not in REGISTER:
        raise InvalidValue("unknown_municipality", f"{code} is not the code of a Danish municipality (one of the 98 "
                           "codes of kommuner.csv, e.g. 751 for Aarhus Kommune)", field)
    return code
