"""Forms of the accounts import (/people/import/): the upload, its confirmation, the passwords."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy

from common.forms import XlsxUploadForm

# A key of departments.sealed: 32 bytes, URL-safe base64.
_KEY_LENGTH = 44


class AccountsUploadForm(XlsxUploadForm):
    """One .xlsx file laid out like the accounts template."""

    label = gettext_lazy("账号工作簿（.xlsx）")


class ConfirmForm(forms.Form):
    """The previewed upload to import: its batch and the key it is sealed with."""

    batch = forms.UUIDField()
    key = forms.CharField(min_length=_KEY_LENGTH, max_length=_KEY_LENGTH)


class PasswordsForm(forms.Form):
    """The one download of the initial passwords: the key they are sealed with."""

    key = forms.CharField(min_length=_KEY_LENGTH, max_length=_KEY_LENGTH)
