"""Pelican settings for the benchmark: one page per digest at /YYYY/MM/DD/, home 10 a page, RSS of the latest 20."""

import os

AUTHOR = "bench"
SITENAME = "Bench Papers"
SITEURL = ""
FEED_DOMAIN = "https://example.org"
PATH = "content"
THEME = os.path.join(os.path.dirname(os.path.abspath(__file__)), "theme")
TIMEZONE = "Asia/Seoul"
DEFAULT_LANG = "ko"
DEFAULT_DATE_FORMAT = "%Y-%m-%d"

DEFAULT_PAGINATION = 10
ARTICLE_URL = "{date:%Y}/{date:%m}/{date:%d}/"
ARTICLE_SAVE_AS = "{date:%Y}/{date:%m}/{date:%d}/index.html"
DIRECT_TEMPLATES = ["index"]

FEED_ALL_RSS = "feed.xml"
FEED_MAX_ITEMS = 20
RSS_FEED_SUMMARY_ONLY = False
FEED_ALL_ATOM = None
CATEGORY_FEED_ATOM = None
TRANSLATION_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None

CATEGORY_SAVE_AS = ""
CATEGORIES_SAVE_AS = ""
TAG_SAVE_AS = ""
TAGS_SAVE_AS = ""
AUTHOR_SAVE_AS = ""
AUTHORS_SAVE_AS = ""
ARCHIVES_SAVE_AS = ""
PAGE_SAVE_AS = ""
DRAFT_SAVE_AS = ""
ARTICLE_LANG_SAVE_AS = ""

CACHE_CONTENT = True
LOAD_CONTENT_CACHE = True
CACHE_PATH = "cache"
DELETE_OUTPUT_DIRECTORY = False
RELATIVE_URLS = False
