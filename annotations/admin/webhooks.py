"""Webhooks in the admin. The secret never appears in a form or a page reached by GET: it is shown
once, in the answer to the POST that created or rotated it (as the API does on creation)."""

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AdminURLFieldWidget
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.response import TemplateResponse

from annotations import models as m
from annotations.admin.scoping import MANAGER, ProjectScopedAdminMixin, ProjectScopedInlineMixin
from annotations.services import webhooks as webhook_services


class WebhookDeliveryInline(ProjectScopedInlineMixin, admin.TabularInline):
    """The delivery log, read-only: only the webhook task writes deliveries (a hand-made one would
    be signed with the hook's secret and sent)."""

    parent_project_field = "project"
    model = m.WebhookDelivery
    extra = 0
    fields = readonly_fields = ["event", "status", "attempts", "response_code", "error", "created_at",
                                "next_attempt_at", "delivered_at"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class WebhookForm(forms.ModelForm):
    url = forms.URLField(max_length=1000, assume_scheme="https", label="URL", widget=AdminURLFieldWidget)
    events = forms.MultipleChoiceField(choices=[(e, e) for e in webhook_services.EVENTS],
                                       widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = m.Webhook
        fields = ["project", "url", "events", "active"]

    def clean_events(self):
        try:
            return webhook_services.webhook_events_clean(list(self.cleaned_data.get("events") or []))
        except ValidationError as exc:
            raise forms.ValidationError(exc.message_dict.get("events", exc.messages)) from exc

    def clean(self):
        data = super().clean()
        project, url, events = data.get("project"), data.get("url"), data.get("events")
        if project and url and events:
            same = m.Webhook.objects.filter(project=project, url=url, events=events)
            if self.instance.pk:
                same = same.exclude(pk=self.instance.pk)
            if same.exists():  # e.g. the page that showed the secret was reloaded and the form posted again
                raise forms.ValidationError("This project already has a webhook for this URL and these events.")
        return data


def _secrets_page(request, admin_site, hooks_and_secrets, title):
    context = {**admin_site.each_context(request), "title": title, "hooks": hooks_and_secrets,
               "opts": m.Webhook._meta}
    response = TemplateResponse(request, "admin/annotations/webhook/secret.html", context)
    response["Cache-Control"] = "no-store"
    return response


@admin.register(m.Webhook)
class WebhookAdmin(ProjectScopedAdminMixin, admin.ModelAdmin):
    view_roles = MANAGER
    form = WebhookForm
    list_display = ["url", "project", "events", "active", "created_at"]
    inlines = [WebhookDeliveryInline]
    actions = ["rotate_secret"]

    def save_model(self, request, obj, form, change):
        if change:
            webhook_services.webhook_update(webhook=obj, url=obj.url, events=obj.events, active=obj.active)
            return
        created = webhook_services.webhook_create(project=obj.project, url=obj.url, events=obj.events,
                                                  active=obj.active)
        obj.pk, obj.secret, obj.created_at = created.pk, created.secret, created.created_at
        request._webhook_secret_once = created.secret

    def response_add(self, request, obj, post_url_continue=None):
        secret = getattr(request, "_webhook_secret_once", None)
        if secret is None:
            return super().response_add(request, obj, post_url_continue)
        return _secrets_page(request, self.admin_site, [(obj, secret)], "Webhook created: copy its secret now")

    @admin.action(description="Rotate the signing secret of the selected webhooks", permissions=["change"])
    def rotate_secret(self, request, queryset):
        hooks = list(self.scope(request, queryset, self.change_roles))
        with transaction.atomic():
            rotated = [(hook, webhook_services.webhook_secret_rotate(webhook=hook)) for hook in hooks]
        return _secrets_page(request, self.admin_site, rotated, "New webhook secrets: copy them now")


@admin.register(m.WebhookDelivery)
class WebhookDeliveryAdmin(ProjectScopedAdminMixin, admin.ModelAdmin):
    view_roles = MANAGER
    project_field = "webhook__project"
    list_display = ["webhook", "event", "status", "attempts", "response_code", "created_at"]
    list_filter = ["status", "event"]

    # The delivery log is a record: written by the webhook task only.
    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False
