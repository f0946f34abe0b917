"""A small lexicon of English and Welsh given-name variants used by the forename comparison.

Pairs are stored as 'A|B' with A < B so one list lookup answers 'are these variants?'.
"""

from __future__ import annotations

_GROUPS = (
    "ALEXANDER ALEX ALEC SANDY", "ANDREW ANDY DREW", "ANTHONY TONY", "BENJAMIN BEN BENNY",
    "CHARLES CHARLIE CHAS CHUCK", "CHRISTOPHER CHRIS KIT", "DANIEL DAN DANNY", "DAVID DAVE DAI DEWI",
    "EDWARD ED EDDIE TED", "ELIZABETH LIZ BETH LIZZIE BETTY ELIZA", "GARETH GAZ", "JAMES JIM JIMMY JAMIE",
    "JONATHAN JON JONNY", "JOSEPH JOE JOEY", "KATHERINE KATE KATIE KATHY CATHERINE CATH", "LEWIS LOU",
    "MARGARET MAGGIE PEGGY MEG", "MATTHEW MATT MATTY", "MICHAEL MIKE MICKY", "NATALIE NAT TALI",
    "NICHOLAS NICK NICKY", "NICOLA NICKY NIKKI", "REBECCA BECKY BECCA", "RICHARD RICH RICKY DICK",
    "ROBERT ROB BOB BOBBY", "SAMUEL SAM SAMMY", "SAMANTHA SAM SAMMY", "STEPHEN STEVE STEVIE STEVEN",
    "THOMAS TOM TOMMY TOMOS", "VICTORIA VICKY TORI", "WILLIAM WILL BILL BILLY WILLIE", "JESSICA JESS JESSIE",
    "CHARLOTTE CHARLIE LOTTIE", "DANIELLE DANI", "JENNIFER JEN JENNY", "SUSAN SUE SUSIE",
    "PATRICK PAT PADDY", "ANTHONY ANT", "GRUFFUDD GRUFF", "IOAN IWAN", "RHYS REECE REES",
    "OWAIN OWEN", "SIAN SHAN", "CERYS KERYS", "HARRY HARRI HENRY", "FREDERICK FRED FREDDIE",
    "ARCHIBALD ARCHIE", "THEODORE THEO TEDDY", "ISABELLA BELLA IZZY ISABEL", "SOPHIA SOPHIE",
    "AMELIA MILLIE AMY", "ELEANOR ELLIE NELL", "ALFRED ALFIE", "ZACHARY ZAC ZACH",
)  # fmt: skip


def pairs() -> list[str]:
    out: set[str] = set()
    for group in _GROUPS:
        names = group.split()
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                x, y = sorted((a, b))
                out.add(f"{x}|{y}")
    return sorted(out)


def sql_condition() -> str:
    listing = ", ".join(f"'{p}'" for p in pairs())
    return f"list_contains([{listing}], least(forename_l, forename_r) || '|' || greatest(forename_l, forename_r))"
