"""Apinizer content policies: transformations, schema validation, content filter, time restriction."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from policyhub.errors import FieldError
from policyhub.policy_types.apinizer.common import ApinizerModel, Int32, Name, PolicySpec

Body = Annotated[str, Field(min_length=1, max_length=1024 * 1024)]
WeekDay = Literal["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY", "ALL"]


class JsonTransformationPolicy(PolicySpec):
    """policy-json-transformation: JOLT (JSON2JSON) or JSON to XML."""

    transformationType: Literal["JSON2JSON", "JSON2XML"] = "JSON2JSON"
    joltValue: Body | None = None
    jsonToXmlIgnoreNull: bool = False
    jsonToXmlIgnoreEmpty: bool = False
    jsonToXmlUseNullForNil: bool = False
    jsonToXmlUnwrapElement: bool = False

    def problems(self, path: str) -> list[FieldError]:
        errors = super().problems(path)
        if self.transformationType == "JSON2JSON" and self.joltValue is None:
            errors.append(FieldError(f"{path}.joltValue", "required when transformationType is JSON2JSON"))
        return errors


class XmlTransformationPolicy(PolicySpec):
    """policy-xml-transformation: XSLT (XML2XML) or XML to JSON."""

    transformationType: Literal["XML2XML", "XML2JSON"] = "XML2XML"
    xsltValue: Body | None = None
    xmlToJsonUnwrapElement: bool = False
    xmlToJsonIgnoreNull: bool = False
    xmlToJsonIgnoreEmpty: bool = False
    xmlToJsonNumbersAsStrings: bool = False
    xmlToJsonUseNullForNil: bool = False
    xmlToJsonArrayPathList: list[Name] = Field(default_factory=list, max_length=1000)

    def problems(self, path: str) -> list[FieldError]:
        errors = super().problems(path)
        if self.transformationType == "XML2XML" and self.xsltValue is None:
            errors.append(FieldError(f"{path}.xsltValue", "required when transformationType is XML2XML"))
        return errors


class SchemaDefinition(ApinizerModel):
    schemaNo: Int32 = 0
    schemaBody: Body
    systemId: Name | None = None
    targetNamespace: Name | None = None
    rootSchema: bool = False


class JsonSchemaValidationPolicy(PolicySpec):
    """policy-json-schema-validation: validate the body (at ``pathForBody``) against JSON Schemas."""

    pathForBody: Name
    schemaDefinitionList: list[SchemaDefinition] = Field(min_length=1, max_length=100)


class XmlSchemaValidationPolicy(PolicySpec):
    """policy-xml-schema-validation: validate the body against XSDs (or the API spec's)."""

    pathForBody: Name | None = None
    validateAgainstSpec: bool = False
    schemaDefinitionList: list[SchemaDefinition] = Field(default_factory=list, max_length=100)

    def problems(self, path: str) -> list[FieldError]:
        errors = super().problems(path)
        if not self.validateAgainstSpec and not self.schemaDefinitionList:
            errors.append(FieldError(f"{path}.schemaDefinitionList", "required unless validateAgainstSpec is true"))
        return errors


class ContentFilterDef(ApinizerModel):
    id: Int32 | None = None
    name: Name
    ruleValue: Annotated[str, Field(min_length=1, max_length=65536)]
    headerActive: bool = False
    bodyActive: bool = False
    paramActive: bool = False
    action: Literal["BLOCK", "DELETE"] = "BLOCK"
    contentType: Literal["XML", "JSON", "ALL_BODY"] = "XML"
    content: Annotated[str, Field(max_length=65536)] | None = None


class ContentFilterPolicy(PolicySpec):
    """policy-content-filter: block or delete matching content in headers, body or parameters."""

    policyContentFilterDefList: list[ContentFilterDef] = Field(min_length=1, max_length=1000)


class Restriction(ApinizerModel):
    hourName: Name | None = None
    description: Annotated[str, Field(max_length=4096)] | None = None
    dayType: Literal["WEEK", "CUSTOM"]
    enumWeekDayList: list[WeekDay] | None = Field(default=None, max_length=8)
    day: Annotated[int, Field(ge=1, le=31)] | None = None
    month: Annotated[int, Field(ge=1, le=12)] | None = None
    wholeDay: bool = False
    startHour: Annotated[int, Field(ge=0, le=23)] | None = None
    startMinute: Annotated[int, Field(ge=0, le=59)] | None = None
    startSecond: Annotated[int, Field(ge=0, le=59)] | None = None
    endHour: Annotated[int, Field(ge=0, le=23)] | None = None
    endMinute: Annotated[int, Field(ge=0, le=59)] | None = None
    endSecond: Annotated[int, Field(ge=0, le=59)] | None = None

    def problems(self, path: str) -> list[FieldError]:
        needed: tuple[str, ...] = ("enumWeekDayList",) if self.dayType == "WEEK" else ("day", "month")
        if not self.wholeDay:
            needed += ("startHour", "startMinute", "startSecond", "endHour", "endMinute", "endSecond")
        return [
            FieldError(f"{path}.{field}", "required for this dayType / when wholeDay is false")
            for field in needed
            if getattr(self, field) in (None, [])
        ]


class TimeRestrictionPolicy(PolicySpec):
    """policy-time-restriction: allow or restrict calls in given time windows."""

    actionType: Literal["ALLOW", "RESTRICT"] = "RESTRICT"
    zoneId: Annotated[str, Field(min_length=1, max_length=64)] = "+03:00"
    restrictionList: list[Restriction] = Field(min_length=1, max_length=1000)

    def problems(self, path: str) -> list[FieldError]:
        errors = super().problems(path)
        for index, restriction in enumerate(self.restrictionList):
            errors += restriction.problems(f"{path}.restrictionList.{index}")
        return errors
