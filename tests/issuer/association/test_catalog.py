"""issuer.association.catalog: every division's achievements and pathways in one catalog (three divisions on one
SQLite file): search by keyword, division, kind, type, CEUs, tag and alignment; the pathways an entry counts
toward; bounded, checked query parameters."""

from __future__ import annotations

import pytest

from errors import Code, InputError, NotFound
from issuer.association.catalog import MAX_TEXT, CatalogQuery, build_catalog

from .three_divisions import add_leadership_pathway, build_association


@pytest.fixture(scope="module")
def divisions(tmp_path_factory):
    made = build_association(tmp_path_factory.mktemp("catalog"))
    yield made
    made.close()


@pytest.fixture(scope="module")
def catalog(divisions):
    return build_catalog(divisions.association)


def _search(catalog, **args):
    return [(e.kind, e.slug) for e in catalog.search(CatalogQuery.from_args({k: str(v) for k, v in args.items()}))]


def test_catalog_lists_every_divisions_achievements_and_pathways(catalog, divisions):
    by_division = {}
    for entry in catalog.entries:
        by_division.setdefault(entry.division.name, set()).add((entry.kind, entry.slug))
    assert by_division["Academic Libraries Division"] == {
        ("achievement", "information-literacy-instruction"), ("achievement", "cataloging-basics"),
        ("achievement", "academic-starter-certificate"), ("pathway", "academic-starter")}
    assert by_division["Library Support Staff Certification"] == {("achievement", "support-staff-foundations")}
    assert ("pathway", "youth-services") in by_division["Youth Services Division"]
    assert len(by_division["Youth Services Division"]) == 8  # 4 examples, 3 pathway achievements, the pathway
    assert [d.name for d in catalog.sources][0] == "Lakeshore Library Association"
    names = [e.name.casefold() for e in catalog.entries]
    assert names == sorted(names)


def test_keyword_search_matches_every_word_anywhere_and_puts_name_matches_first(catalog):
    found = _search(catalog, q="literacy")
    assert found[:3] == [("achievement", "early-literacy-programming"), ("achievement", "storytime-early-literacy"),
                         ("achievement", "information-literacy-instruction")]
    # Words from criteria, alignment and tags count; every word must match.
    assert _search(catalog, q="lesson plan") == [("achievement", "information-literacy-instruction")]
    assert _search(catalog, q="ACRL") == [("achievement", "information-literacy-instruction")]
    assert _search(catalog, q="RDA MARC") == [("achievement", "cataloging-basics")]
    # Only the Academic Starter pathway (and the certificate it awards, whose criteria say so) names both.
    assert _search(catalog, q="literacy cataloging") == [("pathway", "academic-starter"),
                                                         ("achievement", "academic-starter-certificate")]
    assert _search(catalog, q="literacy cataloging", kind="achievement", type="Course") == []
    assert _search(catalog, q="  STORYTIME  ") == [("achievement", "storytime-early-literacy")]


def test_filters_by_division_kind_and_type(catalog, divisions):
    academic = divisions.academic.issuer_id
    assert sorted(_search(catalog, division=academic)) == [
        ("achievement", "academic-starter-certificate"), ("achievement", "cataloging-basics"),
        ("achievement", "information-literacy-instruction"), ("pathway", "academic-starter")]
    assert sorted(_search(catalog, kind="pathway")) == [("pathway", "academic-starter"), ("pathway", "youth-services")]
    assert sorted(_search(catalog, type="Course")) == [
        ("achievement", "cataloging-basics"), ("achievement", "information-literacy-instruction"),
        ("achievement", "storytime-early-literacy")]
    # A pathway's type is that of what it awards (both award a Certificate).
    assert sorted(_search(catalog, type="certificate", kind="pathway")) == [
        ("pathway", "academic-starter"), ("pathway", "youth-services")]
    assert _search(catalog, division=academic, type="Course", q="rda") == [("achievement", "cataloging-basics")]


def test_filter_by_ceus_range(catalog):
    assert sorted(_search(catalog, ceus_min=2, ceus_max=3, kind="achievement")) == [
        ("achievement", "early-literacy-programming"), ("achievement", "family-engagement"),
        ("achievement", "information-literacy-instruction"), ("achievement", "support-staff-foundations")]
    assert _search(catalog, ceus_min=10) == [("achievement", "annual-conference-2025"), ("pathway", "youth-services")]
    assert _search(catalog, ceus_max=1) == [("achievement", "cataloging-basics")]  # no CEUs: never in a range
    assert _search(catalog, ceus_min="1.5", ceus_max="1.5") == [("achievement", "storytime-early-literacy")]


def test_filter_by_tag_and_alignment(catalog):
    assert sorted(_search(catalog, tag="Support-Staff")) == [("achievement", "support-staff-foundations")]
    assert sorted(_search(catalog, tag="academic-libraries")) == [
        ("achievement", "academic-starter-certificate"), ("achievement", "information-literacy-instruction"),
        ("pathway", "academic-starter")]
    assert _search(catalog, alignment="LSSC-F") == [("achievement", "support-staff-foundations")]
    assert _search(catalog, alignment="information literacy for higher") == [
        ("achievement", "information-literacy-instruction")]
    assert _search(catalog, alignment="ALSC", kind="achievement") == [
        ("achievement", "certified-youth-services-librarian"), ("achievement", "storytime-early-literacy")]


def test_entry_says_which_pathways_it_counts_toward(catalog, divisions):
    youth, academic = divisions.youth.issuer_id, divisions.academic.issuer_id
    storytime = catalog.entry(youth, "achievement", "storytime-early-literacy")
    # Not named by the Youth Services pathway, but its CEUs are tagged youth-services: they count.
    assert [(r.kind, r.slug) for r in storytime.counts_toward] == [("pathway", "youth-services")]
    assert storytime.ceus == 1.5 and "Attended the full live webinar" in storytime.criteria
    cataloging = catalog.entry(academic, "achievement", "cataloging-basics")
    assert [(r.kind, r.division, r.slug) for r in cataloging.counts_toward] == [("pathway", academic, "academic-starter")]
    # The conference's 12 CEUs are not tagged youth-services; a certificate a pathway awards counts toward none.
    assert catalog.entry(youth, "achievement", "annual-conference-2025").counts_toward == ()
    assert catalog.entry(youth, "achievement", "youth-services-certificate").counts_toward == ()
    support = catalog.entry(divisions.support.issuer_id, "achievement", "support-staff-foundations")
    assert support.counts_toward == ()  # another division's pathways count only their own division's credentials


def test_pathway_entry_names_its_components_and_award(catalog, divisions):
    pathway = catalog.entry(divisions.academic.issuer_id, "pathway", "academic-starter")
    assert [c.slug for c in pathway.components] == ["cataloging-basics", "information-literacy-instruction"]
    assert pathway.awards.slug == "academic-starter-certificate"
    assert pathway.criteria == "all of: Teaching Information Literacy, Cataloging Basics with RDA"
    youth = catalog.entry(divisions.youth.issuer_id, "pathway", "youth-services")
    assert youth.ceus == 10 and "10 CEUs tagged youth-services" in youth.criteria
    with pytest.raises(NotFound) as caught:
        catalog.entry(divisions.academic.issuer_id, "pathway", "cataloging-basics")
    assert caught.value.code is Code.PATHWAY_NOT_FOUND


def test_json_entry_links_to_entry_pages(catalog, divisions):
    entry = catalog.entry(divisions.youth.issuer_id, "achievement", "family-engagement")
    data = entry.to_dict(lambda ref: f"/catalog/{ref.division}/{ref.kind}/{ref.slug}")
    assert data["countsToward"] == [{"kind": "pathway", "name": "Youth Services Certificate",
                                     "page": f"/catalog/{divisions.youth.issuer_id}/pathway/youth-services"}]
    assert data["division"]["name"] == "Youth Services Division" and data["ceus"] == 2
    assert data["achievement"] == "https://youth.lla.example/achievements/family-engagement"


@pytest.mark.parametrize("args, parameter", [
    ({"q": "x" * (MAX_TEXT["q"] + 1)}, "q"),
    ({"q": " ".join(["word"] * 13)}, "q"),
    ({"tag": "a\x00b"}, "tag"),
    ({"alignment": "\u202eevil"}, "alignment"),
    ({"division": "youth"}, "division"),
    ({"division": "0"}, "division"),
    ({"division": "9" * 13}, "division"),
    ({"kind": "course"}, "kind"),
    ({"ceus_min": "-1"}, "ceus_min"),
    ({"ceus_min": "nan"}, "ceus_min"),
    ({"ceus_max": "1e309"}, "ceus_max"),
    ({"ceus_max": "100001"}, "ceus_max"),
    ({"ceus_min": "3", "ceus_max": "2"}, "ceus_min"),
    ({"page": "0"}, "page"),
])
def test_bad_query_parameters_are_refused_with_one_sentence(args, parameter):
    with pytest.raises(InputError) as caught:
        CatalogQuery.from_args(args)
    assert caught.value.code is Code.CATALOG_QUERY_INVALID and caught.value.details["parameter"] == parameter
    assert caught.value.message.endswith(".")


def test_repeated_parameter_and_unknown_division_are_refused(catalog):
    from werkzeug.datastructures import MultiDict

    with pytest.raises(InputError) as caught:
        CatalogQuery.from_args(MultiDict([("tag", "a"), ("tag", "b")]))
    assert caught.value.details["parameter"] == "tag"
    with pytest.raises(InputError) as caught:
        catalog.search(CatalogQuery(division=987654))
    assert caught.value.code is Code.CATALOG_QUERY_INVALID


def test_empty_values_mean_any_and_unknown_parameters_are_ignored(catalog):
    query = CatalogQuery.from_args({"q": "", "division": "", "type": " ", "ceus_min": "", "utm_source": "x"})
    assert not query.is_filtered and len(catalog.search(query)) == len(catalog.entries)


def test_an_association_pathway_across_divisions_is_in_the_catalog_and_its_parts_say_so(tmp_path):
    divisions = build_association(tmp_path)
    try:
        add_leadership_pathway(divisions, tmp_path / "association-files")
        catalog = build_catalog(divisions.association)
        own = divisions.association.id
        leadership = catalog.entry(own, "pathway", "leadership")
        assert leadership.division.name == "Lakeshore Library Association" and leadership.ceus == 5
        assert {(c.division, c.slug) for c in leadership.components} == {
            (divisions.youth.issuer_id, "storytime-early-literacy"), (divisions.academic.issuer_id, "cataloging-basics")}
        assert leadership.awards == catalog.entry(own, "achievement", "leadership-certificate").ref

        def toward(issuer, slug):
            return [r.slug for r in catalog.entry(issuer.issuer_id, "achievement", slug).counts_toward]

        assert toward(divisions.youth, "storytime-early-literacy") == ["leadership", "youth-services"]  # named
        assert toward(divisions.academic, "cataloging-basics") == ["academic-starter", "leadership"]
        # Not named: their CEUs are tagged instruction / foundations, which the association counts from any division.
        assert toward(divisions.academic, "information-literacy-instruction") == ["academic-starter", "leadership"]
        assert toward(divisions.support, "support-staff-foundations") == ["leadership"]
        assert toward(divisions.youth, "family-engagement") == ["youth-services"]
        assert _search(catalog, kind="pathway", division=own) == [("pathway", "leadership")]
    finally:
        divisions.close()


def test_the_kept_catalog_follows_every_change(tmp_path):
    divisions = build_association(tmp_path)
    try:
        first = build_catalog(divisions.association)
        assert build_catalog(divisions.association) is first  # nothing changed: the same catalog
        support = divisions.support
        definition = support.achievement("support-staff-foundations")
        support.registry.put_achievement(support.issuer_id, "support-staff-foundations",
                                         {**definition, "ob": {**definition["ob"], "name": "Foundations (2027)"}})
        renamed = build_catalog(divisions.association)
        assert renamed.entry(support.issuer_id, "achievement", "support-staff-foundations").name == "Foundations (2027)"
        add_leadership_pathway(divisions, tmp_path / "association-files")  # an achievement and a pathway
        grown = build_catalog(divisions.association)
        assert len(grown.entries) == len(renamed.entries) + 2
    finally:
        divisions.close()


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_the_catalog_on_postgresql(tmp_path, db_url):
    """The same three divisions on a throwaway PostgreSQL cluster: search, filters and counts toward."""
    divisions = build_association(tmp_path, db_url)
    try:
        add_leadership_pathway(divisions, tmp_path / "association-files")
        catalog = build_catalog(divisions.association)
        assert len(catalog.entries) == 15
        assert _search(catalog, q="lesson plan") == [("achievement", "information-literacy-instruction")]
        assert _search(catalog, division=divisions.support.issuer_id, ceus_min=3, tag="foundations") == [
            ("achievement", "support-staff-foundations")]
        support = catalog.entry(divisions.support.issuer_id, "achievement", "support-staff-foundations")
        assert [r.slug for r in support.counts_toward] == ["leadership"]
        assert build_catalog(divisions.association) is catalog
    finally:
        divisions.close()
