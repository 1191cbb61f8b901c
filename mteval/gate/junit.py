"""JUnit XML for the gate: one testcase per metric, so CI shows which metric regressed."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from mteval.gate.decide import GateReport


def junit_xml(report: GateReport) -> str:
    """A ``<testsuites>`` document; a regression is a ``<failure>``, a refusal one ``<error>`` testcase."""
    base = report.baseline
    suite_name = f"mteval-gate.{base.dataset}"
    suites = ET.Element("testsuites")
    suite = ET.SubElement(suites, "testsuite", name=suite_name)
    failures = errors = 0
    if report.refused is not None:
        case = ET.SubElement(suite, "testcase", classname=suite_name, name="comparable")
        err = ET.SubElement(case, "error", message=report.refused, type="IncomparableError")
        err.text = report.refused
        errors = 1
    for v in report.verdicts:
        case = ET.SubElement(suite, "testcase", classname=suite_name, name=v.name)
        detail = (f"{v.name}: baseline {v.baseline:.4f}, current {v.current:.4f}, effect {v.effect:+.4f}, "
                  f"min effect {v.min_effect:g}, p = {v.p_value:.4f}; {v.reason}")
        if v.failed:
            fail = ET.SubElement(case, "failure", message=v.reason, type="QualityRegression")
            fail.text = detail
            failures += 1
        else:
            ET.SubElement(case, "system-out").text = detail
    tests = len(report.verdicts) + (1 if report.refused is not None else 0)
    for el in (suites, suite):
        el.set("tests", str(tests))
        el.set("failures", str(failures))
        el.set("errors", str(errors))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
