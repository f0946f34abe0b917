from justicelink.cli import app

app()
