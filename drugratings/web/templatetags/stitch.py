"""Markers for pages stored once and stitched per request (see web/stitching.py)."""

from __future__ import annotations

from django import template
from django.template.base import FilterExpression, Node, NodeList, Parser, Token
from django.utils.safestring import SafeString

from drugratings.web import stitching

register = template.Library()


@register.simple_tag
def hole(name: str, arg: object = None) -> SafeString:
    """`{% hole "name" arg %}`: filled per request with the reader's own HTML."""
    return stitching.hole(name, arg)


class IfPersonNode(Node):
    def __init__(
        self, name: FilterExpression, arg: FilterExpression | None, yes: NodeList, no: NodeList
    ) -> None:
        self.name, self.arg, self.yes, self.no = name, arg, yes, no

    def render(self, context: template.Context) -> SafeString:
        arg = self.arg.resolve(context) if self.arg is not None else None
        return stitching.branch(
            self.name.resolve(context), arg, self.yes.render(context), self.no.render(context)
        )


@register.tag
def ifperson(parser: Parser, token: Token) -> IfPersonNode:
    """`{% ifperson "name" arg %}A{% else %}B{% endifperson %}`: both stored, one kept per
    request as the view's predicate `name(arg)` says for the reader."""
    bits = token.split_contents()
    if len(bits) not in (2, 3):
        raise template.TemplateSyntaxError("{% ifperson %} takes a name and at most one argument")
    name = parser.compile_filter(bits[1])
    arg = parser.compile_filter(bits[2]) if len(bits) == 3 else None
    yes = parser.parse(("else", "endifperson"))
    no = NodeList()
    if parser.next_token().contents == "else":
        no = parser.parse(("endifperson",))
        parser.delete_first_token()
    return IfPersonNode(name, arg, yes, no)
