"""Chain-of-identity codes, check characters and label rendering (pure; no Django)."""

from anagen.identity.checkchar import ALPHABET, char_value, check_character, is_valid
from anagen.identity.donation import (
    DonationId,
    InvalidIdentifier,
    ProductId,
    make_donation_id,
    make_product_id,
    normalize_identifier_text,
    parse_donation_id,
    parse_product_id,
)
from anagen.identity.labels import (
    AUTOLOGOUS_WARNING,
    LABEL_HEIGHT_MM,
    LABEL_WIDTH_MM,
    LabelData,
    barcode_modules,
    label_html,
    label_pdf,
    label_svg,
)

__all__ = [
    "ALPHABET",
    "AUTOLOGOUS_WARNING",
    "LABEL_HEIGHT_MM",
    "LABEL_WIDTH_MM",
    "DonationId",
    "InvalidIdentifier",
    "LabelData",
    "ProductId",
    "barcode_modules",
    "char_value",
    "check_character",
    "is_valid",
    "label_html",
    "label_pdf",
    "label_svg",
    "make_donation_id",
    "make_product_id",
    "normalize_identifier_text",
    "parse_donation_id",
    "parse_product_id",
]
