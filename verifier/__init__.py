"""Read a credential from any container, judge it, explain the verdict. Never imports ``issuer``.

    report = verify_bytes(data, loader=offline_loader(), fetch=build_fetch(documents=None, offline=False),
                          now=datetime.now(timezone.utc))
"""

from verifier.fetch import DictFetch, DocumentsDir, HttpFetcher, Offline, build_fetch, layered
from verifier.pipeline import Verifier, VerifyOptions, verify_bytes
from verifier.report import Check, Report
from verifier.sources import Extracted, Limits, extract, parse_json, read_source, sniff
from verifier.status import MIN_LIST_SIZE, bit_is_set, decode_status_list, encode_status_list
from verifier.trust import TrustList, load_trust_list
from verifier.unbake import PNG_KEYWORD, SVG_NAMESPACE, unbake_png, unbake_svg

__all__ = [
    "Check", "DictFetch", "DocumentsDir", "Extracted", "HttpFetcher", "Limits", "MIN_LIST_SIZE", "Offline",
    "PNG_KEYWORD", "Report", "SVG_NAMESPACE", "TrustList", "Verifier", "VerifyOptions", "bit_is_set",
    "build_fetch", "decode_status_list", "encode_status_list", "extract", "layered", "load_trust_list",
    "parse_json", "read_source", "sniff", "unbake_png", "unbake_svg", "verify_bytes",
]
