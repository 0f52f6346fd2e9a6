package executor

import (
	"github.com/rtbridge/rtbridge/plan"
	"github.com/rtbridge/rtbridge/rtapi"
)

// Plan steps map onto RT calls field for field (run.attachments adds files).

func ticketCreate(c *plan.Create) rtapi.TicketCreate {
	return rtapi.TicketCreate{
		Queue: c.Queue, Subject: c.Subject, Requestors: c.Requestors, Cc: c.Cc, AdminCc: c.AdminCc,
		Owner: c.Owner, Status: c.Status, Priority: c.Priority, InitialPriority: c.InitialPriority,
		FinalPriority: c.FinalPriority, TimeEstimated: c.TimeEstimated, TimeWorked: c.TimeWorked,
		TimeLeft: c.TimeLeft, Starts: c.Starts, Due: c.Due, Text: c.Text, ContentType: c.ContentType,
		CustomFields: c.CustomFields,
	}
}

func message(m *plan.Message) rtapi.Message {
	return rtapi.Message{Text: m.Text, ContentType: m.ContentType, Cc: m.Cc, Bcc: m.Bcc, TimeWorked: m.TimeWorked, Status: m.Status}
}

func ticketEdit(e *plan.Edit) rtapi.TicketEdit {
	return rtapi.TicketEdit{Fields: e.Fields, CustomFields: e.CustomFields, Requestors: e.Requestors, Cc: e.Cc, AdminCc: e.AdminCc}
}
